// A growable list of int32 values for the index arrays, which are built one puzzle at a time (up to millions of
// entries for augmented ARC) and written once at the end.
export class Int32List {
  private data: Int32Array;
  private size = 0;

  constructor(capacity = 1024) {
    this.data = new Int32Array(Math.max(1, capacity));
  }

  get length(): number {
    return this.size;
  }

  push(value: number): void {
    if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31)
      throw new RangeError(`int32 index overflow: ${value} does not fit in int32`);
    if (this.size === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.size++] = value;
  }

  last(): number | undefined {
    return this.size > 0 ? this.data[this.size - 1] : undefined;
  }

  /** The values so far (a view; copy before pushing more if it must stay stable). */
  view(): Int32Array {
    return this.data.subarray(0, this.size);
  }
}
