/** Keeps the last `capacity` items; used for a backend's recent stderr lines. */
export class RingBuffer<T> {
  #items: T[] = [];
  #start = 0;
  #pushed = 0;
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }
  push(item: T): void {
    this.#pushed++;
    if (this.#items.length < this.capacity) {
      this.#items.push(item);
      return;
    }
    this.#items[this.#start] = item;
    this.#start = (this.#start + 1) % this.capacity;
  }
  toArray(): T[] {
    return [...this.#items.slice(this.#start), ...this.#items.slice(0, this.#start)];
  }
  get size(): number {
    return this.#items.length;
  }
  /** Items pushed since creation, including those dropped: marks where a run's output starts. */
  get pushed(): number {
    return this.#pushed;
  }
  /** The items pushed after the `pushed` count was `mark` (as many as are still kept), oldest first. */
  since(mark: number): T[] {
    const count = Math.min(this.#pushed - mark, this.#items.length);
    return count > 0 ? this.toArray().slice(-count) : [];
  }
}
