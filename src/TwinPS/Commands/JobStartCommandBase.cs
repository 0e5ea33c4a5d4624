using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Text.Json.Nodes;
using TwinPS.Client;
using TwinPS.Completion;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Query;

namespace TwinPS.Commands;

/// <summary>
/// Shared shape of Start-IoTTwinUpdateJob and Start-IoTDeviceMethodJob: which devices (-Condition, or -TagFilter /
/// -DesiredFilter / -ReportedFilter built with Search-IoTTwin's safe quoting), -StartTime, -MaxExecutionTime, -JobId,
/// and a -WhatIf that shows the request and how many devices match now.
/// </summary>
public abstract class JobStartCommandBase : TwinCommandBase
{
    /// <summary>Parameter set of -Condition.</summary>
    protected const string ConditionSet = "Condition";

    /// <summary>Parameter set of the filter hashtables.</summary>
    protected const string FilterSet = "Filter";

    /// <summary>The condition (a WHERE clause without WHERE), e.g. <c>tags.location.plant = 'Redmond43'</c>; <c>*</c> for every device.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ConditionSet)]
    [ValidateNotNullOrEmpty]
    [Alias("QueryCondition")]
    [ArgumentCompleter(typeof(QueryConditionCompleter))]
    public string Condition { get; set; } = string.Empty;

    /// <summary>Tags the devices must have (equality; dotted keys or nested hashtables; an array means IN; $null means absent).</summary>
    [Parameter(ParameterSetName = FilterSet)]
    [ValidateNotNull]
    public IDictionary? TagFilter { get; set; }

    /// <summary>Desired properties the devices must have (as for -TagFilter).</summary>
    [Parameter(ParameterSetName = FilterSet)]
    [ValidateNotNull]
    public IDictionary? DesiredFilter { get; set; }

    /// <summary>Reported properties the devices must have (as for -TagFilter).</summary>
    [Parameter(ParameterSetName = FilterSet)]
    [ValidateNotNull]
    public IDictionary? ReportedFilter { get; set; }

    /// <summary>When the job starts (default: now); at most 168 hours ahead.</summary>
    [Parameter]
    public DateTimeOffset? StartTime { get; set; }

    /// <summary>The job's time limit, whole seconds (e.g. <c>(New-TimeSpan -Hours 1)</c> or <c>'01:00:00'</c>).</summary>
    [Parameter]
    public TimeSpan? MaxExecutionTime { get; set; }

    /// <summary>The job id (lowercase letters, digits and '-', at most 64); default: a new GUID.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? JobId { get; set; }

    /// <summary>What the job does, for ShouldProcess (e.g. "Start a twin-update job").</summary>
    protected abstract string Action { get; }

    /// <summary>Builds the request body (validated; nothing sent).</summary>
    protected abstract JsonObject BuildRequest(string jobId, string condition);

    /// <summary>Sends the create.</summary>
    protected abstract Task<IoTHubJob> CreateAsync(string jobId, string condition, CancellationToken cancellationToken);

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        bool whatIf = IsWhatIf();
        string jobId = JobId ?? JobRules.NewJobId();
        string condition;
        JsonObject body;
        try
        {
            condition = ParameterSetName == ConditionSet ? Condition.Trim() : BuildCondition();
            body = BuildRequest(jobId, condition);
        }
        catch (Exception ex) when (ex is ArgumentException or PSObjectJsonException or TwinPS.Protocol.IoTHubProtocolException)
        {
            ErrorRecord record = ex switch
            {
                PSObjectJsonException or TwinPS.Protocol.TwinValidationException or TwinPS.Protocol.IoTHubProtocolException => ErrorRecords.FromException(ex, null, null),
                _ => ErrorRecords.InvalidInput("ArgumentInvalid", ex.Message, JobId ?? MyInvocation.MyCommand.Name),
            };
            throw new TerminatingErrorException(record);
        }

        string target = $"hub '{HubConnection.HostName}'";
        string description = $"{Action} '{jobId}' on {target} for devices where {condition}";
        if (whatIf)
        {
            description += await DescribeMatchesAsync(condition, cancellationToken).ConfigureAwait(false)
                + "; request: PUT /jobs/v2/" + jobId + " " + body.ToJsonString();
        }

        if (!await InvokeOnPipelineThreadAsync(() => ShouldProcess(description, $"{Action} '{jobId}' for devices where {condition}?", Action)).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            IoTHubJob job = await CreateAsync(jobId, condition, cancellationToken).ConfigureAwait(false);
            WriteObjectSafe(new HubJob(job, HubConnection.HostName).ToPSObject());
        }
        catch (IoTHubServiceException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TerminatingErrorException(ErrorRecords.FromException(ex, null, null).WithTarget(jobId));
        }
    }

    /// <summary>Converts a parameter value to a JSON object (hashtable, PSCustomObject or JSON text).</summary>
    protected static JsonObject? ObjectOrNull(object? value, string parameterName) =>
        value is null ? null : PSObjectJson.ToJsonObject(value, parameterName);

    private string BuildCondition()
    {
        var conditions = new List<(string Path, object? Value)>();
        SearchIoTTwinCommand.AddConditions(conditions, "tags", TagFilter);
        SearchIoTTwinCommand.AddConditions(conditions, "properties.desired", DesiredFilter);
        SearchIoTTwinCommand.AddConditions(conditions, "properties.reported", ReportedFilter);
        if (conditions.Count == 0)
        {
            throw new ArgumentException("Say which devices the job is for: -TagFilter, -DesiredFilter or -ReportedFilter, or -Condition ('*' for every device).");
        }

        return QueryBuilder.BuildWhere(conditions);
    }

    private bool IsWhatIf()
    {
        if (MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? bound))
        {
            return bound is SwitchParameter { IsPresent: true } || bound is true;
        }

        object? preference = SessionState.PSVariable.GetValue("WhatIfPreference");
        return LanguagePrimitives.IsTrue(preference);
    }

    // -WhatIf: how many devices the condition selects right now (one COUNT query).
    private async Task<string> DescribeMatchesAsync(string condition, CancellationToken cancellationToken)
    {
        string query = condition == "*" ? "SELECT COUNT() AS total FROM devices" : "SELECT COUNT() AS total FROM devices WHERE " + condition;
        try
        {
            await foreach (QueryPage page in Client.QueryAsync(query, null, cancellationToken).ConfigureAwait(false))
            {
                if (page.Items.Count > 0 && page.Items[0] is JsonObject row && row["total"] is JsonValue value && value.TryGetValue(out long total))
                {
                    return string.Create(CultureInfo.InvariantCulture, $" ({total} device{(total == 1 ? string.Empty : "s")} match now)");
                }

                break;
            }

            return " (the hub did not count the matching devices)";
        }
        catch (IoTHubServiceException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return " (the condition cannot be counted now: " + (ex.QueryDiagnosis ?? ex.ErrorCode) + "; the job would fail)";
        }
        catch (ArgumentException ex)
        {
            return " (the condition cannot be counted now: " + ex.Message + ")";
        }
    }
}
