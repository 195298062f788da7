// Block planning for direct uploads to Blob Storage (see createUpload in
// internal/httpapi/openapi.yaml). Pure functions: no I/O, no clock.

/** Digits in a block index: 6 digits cover 999,999 blocks, above Blob Storage's 50,000 per blob. */
const INDEX_DIGITS = 6;
const MAX_BLOCKS = 50_000;

export interface PlannedBlock {
  /** 0-based position in the file. */
  index: number;
  /** base64("block-" + index padded to 6 digits); the same length for every block. */
  id: string;
  /** First byte (inclusive) and end (exclusive) in the file, for File.slice. */
  start: number;
  end: number;
  size: number;
}

export interface StagedBlock {
  id: string;
  size_bytes: number;
}

/** The block id of block `index`: base64 of "block-000042". Deterministic, so a reload can resume. */
export function blockId(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= 10 ** INDEX_DIGITS) {
    throw new RangeError(`block index out of range: ${index}`);
  }
  return btoa(`block-${String(index).padStart(INDEX_DIGITS, "0")}`);
}

/**
 * Cuts `size` bytes into blocks of `blockSize`, the last one shorter when the size is not a multiple.
 * A file of at most one block still gets one block: the same path (Put Block + Put Block List) serves
 * every size, so retries, renewal, progress and resume have one implementation.
 */
export function planBlocks(size: number, blockSize: number): PlannedBlock[] {
  if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError("the file is empty");
  if (!Number.isSafeInteger(blockSize) || blockSize <= 0) throw new RangeError(`bad block size: ${blockSize}`);
  const count = Math.ceil(size / blockSize);
  if (count > MAX_BLOCKS) throw new RangeError(`the file needs ${count} blocks, more than ${MAX_BLOCKS}`);
  const blocks: PlannedBlock[] = [];
  for (let index = 0; index < count; index++) {
    const start = index * blockSize;
    const end = Math.min(start + blockSize, size);
    blocks.push({ index, id: blockId(index), start, end, size: end - start });
  }
  return blocks;
}

/**
 * The blocks still to send when `staged` were already staged (GET /api/uploads/{id}). A staged block
 * counts only when both its id and its size match the plan: a block cut differently (another block
 * size, a truncated send) is sent again, which replaces it.
 */
export function blocksToSend(plan: readonly PlannedBlock[], staged: readonly StagedBlock[]): PlannedBlock[] {
  const stagedSize = new Map(staged.map((b) => [b.id, b.size_bytes]));
  return plan.filter((b) => stagedSize.get(b.id) !== b.size);
}

/** The Put Block List body: every id of the plan, in file order, as the latest version. */
export function blockListXml(plan: readonly PlannedBlock[]): string {
  const items = plan.map((b) => `<Latest>${b.id}</Latest>`).join("");
  return `<?xml version="1.0" encoding="utf-8"?><BlockList>${items}</BlockList>`;
}
