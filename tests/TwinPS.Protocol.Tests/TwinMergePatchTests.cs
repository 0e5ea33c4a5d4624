using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Protocol.Tests;

public class TwinMergePatchTests
{
    private static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();

    private static void AssertJson(string expected, JsonNode actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected} but got {actual.ToJsonString()}");

    [Fact]
    public void Objects_merge_recursively_and_unmentioned_keys_stay()
    {
        var target = Obj("{\"a\":{\"x\":1,\"y\":2},\"b\":3}");
        Assert.True(TwinMergePatch.Apply(target, Obj("{\"a\":{\"y\":20,\"z\":30}}")));
        AssertJson("{\"a\":{\"x\":1,\"y\":20,\"z\":30},\"b\":3}", target);
    }

    [Fact]
    public void Null_deletes_the_key_with_its_subtree()
    {
        var target = Obj("{\"a\":{\"x\":{\"deep\":1}},\"b\":3}");
        Assert.True(TwinMergePatch.Apply(target, Obj("{\"a\":null}")));
        AssertJson("{\"b\":3}", target);
    }

    [Fact]
    public void Null_for_a_missing_key_is_a_no_op()
    {
        var target = Obj("{\"b\":3}");
        Assert.False(TwinMergePatch.Apply(target, Obj("{\"missing\":null}")));
        AssertJson("{\"b\":3}", target);
    }

    [Fact]
    public void Nested_null_under_a_missing_parent_creates_an_empty_object()
    {
        var target = new JsonObject();
        Assert.True(TwinMergePatch.Apply(target, Obj("{\"a\":{\"b\":null}}")));
        AssertJson("{\"a\":{}}", target);
    }

    [Fact]
    public void Deleting_the_last_leaf_leaves_an_empty_object()
    {
        var target = Obj("{\"a\":{\"b\":1}}");
        TwinMergePatch.Apply(target, Obj("{\"a\":{\"b\":null}}"));
        AssertJson("{\"a\":{}}", target);
    }

    [Fact]
    public void Arrays_are_replaced_whole()
    {
        var target = Obj("{\"a\":[1,2,3],\"o\":[{\"k\":1}]}");
        TwinMergePatch.Apply(target, Obj("{\"a\":[9],\"o\":[{\"j\":2}]}"));
        AssertJson("{\"a\":[9],\"o\":[{\"j\":2}]}", target);
    }

    [Fact]
    public void Scalars_and_objects_replace_each_other()
    {
        var target = Obj("{\"a\":{\"x\":1},\"b\":5}");
        TwinMergePatch.Apply(target, Obj("{\"a\":7,\"b\":{\"y\":2}}"));
        AssertJson("{\"a\":7,\"b\":{\"y\":2}}", target);
    }

    [Fact]
    public void Same_value_reports_no_change_and_patch_is_not_aliased()
    {
        var target = Obj("{\"a\":1,\"o\":{\"x\":[1]}}");
        Assert.False(TwinMergePatch.Apply(target, Obj("{\"a\":1,\"o\":{\"x\":[1]}}")));
        var patch = Obj("{\"n\":{\"m\":[1]}}");
        TwinMergePatch.Apply(target, patch);
        patch["n"]!["m"]!.AsArray().Add(2);
        AssertJson("[1]", target["n"]!["m"]!);
    }

    [Fact]
    public void Replacement_patch_holds_new_values_and_removed_keys_as_null()
    {
        var patch = TwinMergePatch.ReplacementPatch(Obj("{\"a\":1,\"b\":2,\"n\":{\"x\":1,\"y\":2}}"), Obj("{\"a\":1,\"c\":100,\"n\":{\"x\":1}}"));
        AssertJson("{\"a\":1,\"c\":100,\"n\":{\"x\":1,\"y\":null},\"b\":null}", patch);
    }

    [Fact]
    public void Replacement_patch_applied_to_old_gives_new()
    {
        var old = Obj("{\"a\":{\"x\":1},\"b\":[1],\"c\":\"s\",\"d\":{\"e\":{\"f\":1}}}");
        var @new = Obj("{\"a\":5,\"c\":{\"z\":1},\"d\":{\"e\":{}}}");
        var patch = TwinMergePatch.ReplacementPatch(old, @new);
        TwinMergePatch.Apply(old, patch);
        AssertJson(@new.ToJsonString(), old);
    }
}
