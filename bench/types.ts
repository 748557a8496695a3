/** One benchmark figure, as printed by bench/run.ts and kept in the README. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  note?: string;
}
