namespace Orchestrator.Publisher.Publications;

/// <summary>
/// One work item's events are handled one at a time (each event type has its own queue, so two can arrive together):
/// otherwise two of them could both find no status comment and both create one. Striped, so memory stays bounded.
/// </summary>
public sealed class WorkItemLocks
{
    private readonly SemaphoreSlim[] _stripes = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    public async Task<IDisposable> AcquireAsync(Guid workItem, CancellationToken cancellationToken)
    {
        var stripe = _stripes[(workItem.GetHashCode() & int.MaxValue) % _stripes.Length];
        await stripe.WaitAsync(cancellationToken);
        return new Releaser(stripe);
    }

    private sealed class Releaser(SemaphoreSlim stripe) : IDisposable
    {
        public void Dispose() => stripe.Release();
    }
}
