namespace Orchestrator.Testing;

/// <summary>
/// Waits for a condition a test observes from outside (an HTTP API, a database) by checking it again after each short
/// pause, up to a deadline. The failure message says what was awaited.
/// </summary>
public static class Eventually
{
    /// <param name="pause">Between checks: 25 ms unless the probe is costly (a process, a container).</param>
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what, TimeSpan? pause = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = await probe();
        while (!done(last))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}; last seen: {last}");
            await Task.Delay(pause ?? TimeSpan.FromMilliseconds(25));
            last = await probe();
        }
        return last;
    }
}
