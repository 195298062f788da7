import { describe, expect, it } from "vitest";
import { blockId, blockListXml, blocksToSend, planBlocks } from "./blocks";

const MiB = 1024 * 1024;

describe("blockId", () => {
  it("is base64 of block- and a 6-digit index", () => {
    expect(blockId(0)).toBe(btoa("block-000000"));
    expect(atob(blockId(42))).toBe("block-000042");
  });

  it("has the same length for every index a blob can have", () => {
    const lengths = new Set([0, 1, 9, 10, 999, 49_999, 999_999].map((i) => blockId(i).length));
    expect(lengths.size).toBe(1);
  });

  it("refuses indexes that would not fit 6 digits", () => {
    expect(() => blockId(1_000_000)).toThrow(RangeError);
    expect(() => blockId(-1)).toThrow(RangeError);
  });
});

describe("planBlocks", () => {
  it("cuts 8 MiB blocks with a shorter last block", () => {
    const size = 20 * MiB + 5;
    const plan = planBlocks(size, 8 * MiB);
    expect(plan.map((b) => b.size)).toEqual([8 * MiB, 8 * MiB, 4 * MiB + 5]);
    expect(plan.map((b) => b.start)).toEqual([0, 8 * MiB, 16 * MiB]);
    expect(plan.at(-1)?.end).toBe(size);
    expect(plan.reduce((n, b) => n + b.size, 0)).toBe(size);
  });

  it("keeps every block full when the size is a multiple of the block size", () => {
    expect(planBlocks(16 * MiB, 8 * MiB).map((b) => b.size)).toEqual([8 * MiB, 8 * MiB]);
  });

  it("gives a small file one block (the same path as every other file)", () => {
    const plan = planBlocks(1000, 8 * MiB);
    expect(plan).toEqual([{ index: 0, id: blockId(0), start: 0, end: 1000, size: 1000 }]);
  });

  it("gives ids of equal length and in order", () => {
    const plan = planBlocks(12 * 1024, 1024);
    expect(new Set(plan.map((b) => b.id.length)).size).toBe(1);
    expect(plan.map((b) => atob(b.id))).toEqual(plan.map((_, i) => `block-${String(i).padStart(6, "0")}`));
  });

  it("refuses an empty file and more blocks than a blob can hold", () => {
    expect(() => planBlocks(0, MiB)).toThrow(/empty/);
    expect(() => planBlocks(50_001, 1)).toThrow(/50000/);
  });
});

describe("blocksToSend (resume)", () => {
  const plan = planBlocks(5 * 100 - 30, 100); // blocks of 100 and a last one of 70

  it("skips the blocks already staged with the same id and size", () => {
    const staged = [
      { id: blockId(0), size_bytes: 100 },
      { id: blockId(2), size_bytes: 100 },
      { id: blockId(4), size_bytes: 70 },
    ];
    expect(blocksToSend(plan, staged).map((b) => b.index)).toEqual([1, 3]);
  });

  it("sends again a block staged with another size, and ignores ids not in the plan", () => {
    const staged = [
      { id: blockId(0), size_bytes: 60 },
      { id: blockId(1), size_bytes: 100 },
      { id: btoa("random-id-00"), size_bytes: 100 },
    ];
    expect(blocksToSend(plan, staged).map((b) => b.index)).toEqual([0, 2, 3, 4]);
  });

  it("sends everything when nothing is staged, and nothing when all is", () => {
    expect(blocksToSend(plan, [])).toHaveLength(5);
    expect(blocksToSend(plan, plan.map((b) => ({ id: b.id, size_bytes: b.size })))).toEqual([]);
  });
});

describe("blockListXml", () => {
  it("lists every id in file order", () => {
    const plan = planBlocks(250, 100);
    expect(blockListXml(plan)).toBe(
      `<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>${blockId(0)}</Latest><Latest>${blockId(1)}</Latest><Latest>${blockId(2)}</Latest></BlockList>`,
    );
  });
});
