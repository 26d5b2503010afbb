using System.Collections;

namespace Orchestrator.Testing;

/// <summary>A list safe to add to from several threads (exporters) while a test reads it: reads get a copy.</summary>
public sealed class LockedList<T> : ICollection<T>
{
    private readonly List<T> _items = [];

    public int Count
    {
        get
        {
            lock (_items)
                return _items.Count;
        }
    }

    public bool IsReadOnly => false;

    /// <summary>The items as they are now. (A collection expression over the list itself would read its count and copy
    /// its items as two steps, and fail when an item arrives in between.)</summary>
    public IReadOnlyList<T> Snapshot()
    {
        lock (_items)
            return [.. _items];
    }

    public void Add(T item)
    {
        lock (_items)
            _items.Add(item);
    }

    public void Clear()
    {
        lock (_items)
            _items.Clear();
    }

    public bool Contains(T item)
    {
        lock (_items)
            return _items.Contains(item);
    }

    public void CopyTo(T[] array, int arrayIndex)
    {
        lock (_items)
            _items.CopyTo(array, arrayIndex);
    }

    public bool Remove(T item)
    {
        lock (_items)
            return _items.Remove(item);
    }

    public IEnumerator<T> GetEnumerator()
    {
        lock (_items)
            return _items.ToList().GetEnumerator();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
