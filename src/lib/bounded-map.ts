// The one in-memory cache shape of the service: a Map that forgets its oldest entry (insertion order)
// once it holds `capacity` entries, so no cache grows with what callers choose to send.
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly capacity: number) {
    super();
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.capacity) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return super.set(key, value);
  }

  /** The cached value, or `make()`'s result stored under `key` first. */
  getOrSet(key: K, make: () => V): V {
    const hit = this.get(key);
    if (hit !== undefined || this.has(key)) return hit as V;
    const value = make();
    this.set(key, value);
    return value;
  }
}
