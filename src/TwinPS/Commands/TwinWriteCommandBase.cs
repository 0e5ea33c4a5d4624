using System.Globalization;
using System.Management.Automation;
using System.Text.Json.Nodes;
using TwinPS.Client;
using TwinPS.Completion;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>
/// Shared shape of the twin writers: ids or piped twins (<c>-DeviceId</c>/<c>-ModuleId</c>/<c>-ETag</c>
/// by value and by property name, or <c>-InputObject</c>), <c>-Force</c> (If-Match: * and no
/// confirmation), <c>-PassThru</c>, one ShouldProcess per twin showing the exact request, and
/// concurrent requests (<c>-ThrottleLimit</c>).
/// </summary>
public abstract class TwinWriteCommandBase : TwinCommandBase
{
    /// <summary>Parameter set of ids (the default).</summary>
    protected const string ByIdSet = "ById";

    /// <summary>Parameter set of piped twin objects.</summary>
    protected const string ByTwinSet = "ByTwin";

    /// <summary>Parameter set of piped device identities (Get-IoTDevice).</summary>
    protected const string ByDeviceSet = "ByDevice";

    private string _operation = string.Empty;
    private TwinWrite? _write;
    private bool _skipConfirmation;
    private bool _confirmHighImpact;
    private bool _silentYes;
    private bool _yesToAll;
    private bool _noToAll;

    /// <summary>The device id(s) whose twins to change.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ByIdSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DeviceIdCompleter))]
    public string[] DeviceId { get; set; } = [];

    /// <summary>The module id, to change module twins instead of device twins.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = ByIdSet)]
    [AllowNull]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(ModuleIdCompleter))]
    public string? ModuleId { get; set; }

    /// <summary>Write only if the twin still has this etag (If-Match); a piped twin supplies its own.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = ByIdSet)]
    [AllowNull]
    [AllowEmptyString]
    public string? ETag { get; set; }

    /// <summary>
    /// Pipeline only: the generation id of a piped device identity (Get-IoTDevice, or its CSV export).
    /// Such an object's ETag is the identity's, not the twin's, so it is not used as If-Match.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = ByIdSet, DontShow = true)]
    [AllowNull]
    [AllowEmptyString]
    public string? GenerationId { get; set; }

    /// <summary>
    /// Pipeline only: the <c>IsEdge</c> flag that every device identity carries (Get-IoTDevice by id or listed, and
    /// its CSV or JSON round trip; a twin calls it <c>IsEdgeDevice</c>). An object with it is a device identity, whose
    /// ETag is the identity's and is never sent as the twin's If-Match.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = ByIdSet, DontShow = true)]
    [AllowNull]
    [AllowEmptyString]
    public object? IsEdge { get; set; }

    /// <summary>A twin (from Get-IoTTwin or Search-IoTTwin): its device id, module id and etag are used.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByTwinSet)]
    [ValidateNotNull]
    public Twin? InputObject { get; set; }

    /// <summary>
    /// A device identity (from Get-IoTDevice): its device id is used. Its ETag is the identity's,
    /// not the twin's, so the write is not conditional.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByDeviceSet)]
    [ValidateNotNull]
    public Device? Device { get; set; }

    /// <summary>How many requests run at once for many ids or piped twins.</summary>
    [Parameter]
    [ValidateRange(1, MaxThrottleLimit)]
    public int ThrottleLimit { get; set; } = DefaultThrottleLimit;

    /// <inheritdoc/>
    protected override int WorkThrottleLimit => ThrottleLimit;

    /// <summary>Write unconditionally (If-Match: *) and without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Write the updated twin to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>
    /// True when this invocation changes whole sections (e.g. -Replace): it is then confirmed as if
    /// ConfirmImpact were High, unless -Force or -Confirm:$false.
    /// </summary>
    protected virtual bool IsHighImpact => false;

    /// <inheritdoc/>
    protected override bool StartPipedItemsOnWorker => _skipConfirmation || _silentYes;

    /// <inheritdoc/>
    protected override async Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        await base.BeginProcessingAsync(cancellationToken).ConfigureAwait(false);
        bool confirmBound = MyInvocation.BoundParameters.TryGetValue("Confirm", out object? c);
        bool confirm = confirmBound && LanguagePrimitives.IsTrue(c);
        (bool whatIfPreference, object? confirmPreference, object? verbosePreference) = await InvokeOnPipelineThreadAsync(
            () => (LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference")), GetVariableValue("ConfirmPreference"),
                GetVariableValue("VerbosePreference"))).ConfigureAwait(false);
        bool whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? w) ? LanguagePrimitives.IsTrue(w) : whatIfPreference;
        _skipConfirmation = Force.IsPresent && !confirm && !whatIf;

        // A cmdlet's ConfirmImpact is fixed; -Replace is as destructive as ConfirmImpact High, so
        // ask (ShouldContinue) where PowerShell would have asked for a High-impact command.
        bool preferenceAsksForHigh = !LanguagePrimitives.TryConvertTo(confirmPreference, out ConfirmImpact level) || level != ConfirmImpact.None;
        _confirmHighImpact = IsHighImpact && !Force.IsPresent && !whatIf && !confirmBound && preferenceAsksForHigh;

        // When ShouldProcess would neither ask, nor print (-WhatIf), nor write its verbose line, its
        // answer is yes: skip the round trip to the pipeline thread for every twin of a bulk run.
        bool verbose = MyInvocation.BoundParameters.TryGetValue("Verbose", out object? v)
            ? LanguagePrimitives.IsTrue(v)
            : LanguagePrimitives.TryConvertTo(verbosePreference, out ActionPreference verboseLevel) &&
              verboseLevel is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore);
        ConfirmImpact impact = GetType().GetCustomAttributes(typeof(CmdletAttribute), inherit: true)
            .OfType<CmdletAttribute>().FirstOrDefault()?.ConfirmImpact ?? ConfirmImpact.Medium;
        bool preferenceAsks = LanguagePrimitives.TryConvertTo(confirmPreference, out ConfirmImpact preferred)
            ? preferred != ConfirmImpact.None && impact >= preferred
            : true;
        _silentYes = !whatIf && !confirmBound && !verbose && !preferenceAsks && !_confirmHighImpact &&
            !MyInvocation.BoundParameters.ContainsKey("Debug");

        PrepareInput();
    }

    /// <summary>
    /// Converts the cmdlet's input and makes the write (checked against the twin rules by the client) once, before any
    /// request (throws to end the command); returns the operation's name for the confirmation text.
    /// </summary>
    private protected abstract (string Operation, TwinWrite? Write) PrepareWrite();

    /// <summary>The write for one twin: the one prepared (Set-IoTTwin makes it from a piped twin that is written).</summary>
    private protected virtual TwinWrite WriteFor(TwinTarget target) => _write!;

    private void PrepareInput() => (_operation, _write) = PrepareWrite();

    // One twin: the client sends the write (a section replacement reads and diffs), asking ShouldProcess with the exact first request.
    private async Task WriteTwinAsync(TwinTarget target, CancellationToken cancellationToken)
    {
        TwinWrite write = WriteFor(target);
        var options = new TwinWriteOptions
        {
            IfMatch = target.ETag,
            Force = Force.IsPresent,
            Current = target.Twin?.Source,
            // Not asked at all when the answer is a silent yes: a bulk run neither hops to the pipeline thread nor
            // serializes every request body for a text nobody sees.
            ConfirmAsync = _skipConfirmation || _silentYes ? null : request => ConfirmAsync(target, request.Describe(_operation)),
            Retrying = WriteVerboseSafe,
        };
        IoTHubTwin? written = await Client.WriteTwinAsync(target.DeviceId, target.ModuleId, write, options, cancellationToken).ConfigureAwait(false);
        if (PassThru.IsPresent && written is not null)
        {
            WriteTwinSafe(written);
        }
    }

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (ParameterSetName == ByIdSet)
        {
            ExpectItems(DeviceId.Length);
        }

        foreach (TwinTarget target in CurrentTargets())
        {
            if (!ValidateIds(target.DeviceId, target.ModuleId))
            {
                continue;
            }

            await EnqueueWork(token => RunItemAsync(target.DeviceId, target.ModuleId,
                () => WriteTwinAsync(target, token))).ConfigureAwait(false);
        }
    }

    /// <summary>ShouldProcess for one twin (not asked with -Force unless -WhatIf or -Confirm, nor when the answer is a silent yes).</summary>
    private Task<bool> ConfirmAsync(TwinTarget target, string action)
    {
        return InvokeOnPipelineThreadAsync(() =>
            ShouldProcess(DescribeTarget(target), action) &&
            (!_confirmHighImpact || ShouldContinue(
                $"{action}{Environment.NewLine}on {DescribeTarget(target)}?", "Confirm replacement", ref _yesToAll, ref _noToAll)));
    }

    /// <summary>The ShouldProcess target: <c>twin 'd1' on hub 'h'</c> (or <c>module twin 'd1/m1'</c>).</summary>
    private string DescribeTarget(TwinTarget target) => string.Create(CultureInfo.InvariantCulture,
        $"{(target.ModuleId is null ? "twin" : "module twin")} '{target}' on hub '{HubConnection.HostName}'");

    private IEnumerable<TwinTarget> CurrentTargets()
    {
        if (ParameterSetName == ByDeviceSet)
        {
            yield return new TwinTarget(Device!.DeviceId, null, null, null);
            yield break;
        }

        if (ParameterSetName == ByTwinSet)
        {
            Twin twin = InputObject!;
            yield return new TwinTarget(twin.DeviceId, twin.ModuleId, twin.ETag, twin);
            yield break;
        }

        string? moduleId = NormalizeModuleId(ModuleId);
        // A device identity's ETag (recognised by its GenerationId or IsEdge, one of which every form of it has, even a
        // listed device without a generation id) is never sent as the twin's.
        bool fromDeviceIdentity = !string.IsNullOrEmpty(GenerationId) || IsEdge is not null;
        string? etag = string.IsNullOrEmpty(ETag) || fromDeviceIdentity ? null : ETag;
        foreach (string id in DeviceId)
        {
            yield return new TwinTarget(id, moduleId, etag, null);
        }
    }
}

/// <summary>One twin to write: ids, the etag to make the write conditional on, and the piped twin if any.</summary>
internal sealed record TwinTarget(string DeviceId, string? ModuleId, string? ETag, Twin? Twin)
{
    /// <summary><c>deviceId</c> or <c>deviceId/moduleId</c>.</summary>
    public override string ToString() => ModuleId is null ? DeviceId : DeviceId + "/" + ModuleId;
}
