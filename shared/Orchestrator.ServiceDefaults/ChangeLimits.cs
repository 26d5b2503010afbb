using Microsoft.Extensions.Configuration;

namespace Orchestrator.ServiceDefaults;

/// <summary>
/// The largest change the system publishes. ToolGateway enforces it when it collects a workspace's changes, so an
/// oversized change fails there (<c>changes-too-large</c>) and never becomes a message; Publisher checks it again before
/// it writes, since it trusts no message. Both read the same settings.
/// </summary>
public sealed class ChangeLimits : IValidatedOptions
{
    /// <summary>Files one change may add, modify or delete.</summary>
    [ConfigurationKeyName("PUBLISH_MAX_FILES")]
    public int MaxFiles { get; set; } = 50;

    /// <summary>Bytes of new content one change may carry (text or binary, over all its files).</summary>
    [ConfigurationKeyName("PUBLISH_MAX_BYTES")]
    public long MaxBytes { get; set; } = 512 * 1024;

    public IEnumerable<string> Validate()
    {
        if (MaxFiles < 1)
            yield return "PUBLISH_MAX_FILES must be at least 1";
        if (MaxBytes < 1)
            yield return "PUBLISH_MAX_BYTES must be at least 1";
        else if (MaxBytes > 64 * 1024 * 1024)
            yield return "PUBLISH_MAX_BYTES must be at most 64 MiB (a change travels in one message)";
    }
}
