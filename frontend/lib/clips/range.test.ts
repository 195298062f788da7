import { describe, expect, it } from "vitest";
import { initialRange, parseSeconds, setEndAt, setStartAt, shortcutOf, validateRange } from "./range";

const limits = { duration: 65, maxSeconds: 180 };

function key(key: string, target: EventTarget | null = document.body, over: Partial<KeyboardEvent> = {}) {
  return { key, target, ctrlKey: false, metaKey: false, altKey: false, defaultPrevented: false, repeat: false, ...over };
}

describe("clip range", () => {
  it("reads seconds as typed, with a dot or a comma", () => {
    expect(parseSeconds("12.5")).toBe(12.5);
    expect(parseSeconds(" 3,2 ")).toBe(3.2);
    expect(parseSeconds(".5")).toBe(0.5);
    expect(parseSeconds("")).toBeNull();
    expect(parseSeconds("1:05")).toBeNull();
    expect(parseSeconds("abc")).toBeNull();
  });

  it("accepts a range inside the video", () => {
    expect(validateRange({ start: "2", end: "4" }, limits)).toEqual({});
    expect(validateRange({ start: "0", end: "65" }, limits)).toEqual({});
  });

  it("says what is wrong, next to the field it is about", () => {
    expect(validateRange({ start: "", end: "4" }, limits)).toEqual({ start: "Enter the start in seconds, for example 12.5." });
    expect(validateRange({ start: "-1", end: "4" }, limits).start).toBe("The start cannot be before 0 s.");
    expect(validateRange({ start: "65", end: "66" }, limits).start).toBe("The start must be before the end of the video (65 s).");
    expect(validateRange({ start: "2", end: "70" }, limits)).toEqual({ end: "The end cannot be after the end of the video (65 s)." });
    expect(validateRange({ start: "5", end: "4" }, limits)).toEqual({ end: "The end must be after the start." });
    expect(validateRange({ start: "5", end: "5.2" }, limits)).toEqual({ end: "A clip must be at least 0.5 s long." });
    expect(validateRange({ start: "", end: "x" }, limits)).toEqual({
      start: "Enter the start in seconds, for example 12.5.",
      end: "Enter the end in seconds, for example 20.",
    });
  });

  it("holds clips to the maximum length", () => {
    const long = { duration: 600, maxSeconds: 180 };
    expect(validateRange({ start: "10", end: "190" }, long)).toEqual({});
    expect(validateRange({ start: "10", end: "190.5" }, long)).toEqual({ end: "A clip can be at most 180 s long (this one is 180.5 s)." });
  });

  it("without a known duration checks only the order and the length", () => {
    expect(validateRange({ start: "100", end: "110" }, { duration: null })).toEqual({});
  });

  it("Set start (I) takes the playhead to a tenth and keeps an end that still fits", () => {
    expect(setStartAt({ start: "0", end: "20" }, 12.34, limits)).toEqual({ start: "12.3", end: "20" });
  });

  it("Set start moves an end that no longer fits to 10 s later, within the video", () => {
    expect(setStartAt({ start: "0", end: "10" }, 12.34, limits)).toEqual({ start: "12.3", end: "22.3" });
    expect(setStartAt({ start: "0", end: "10" }, 60, limits)).toEqual({ start: "60", end: "65" });
    expect(setStartAt({ start: "0", end: "" }, 3, limits)).toEqual({ start: "3", end: "13" });
  });

  it("Set end (O) takes the playhead and moves a start that no longer fits", () => {
    expect(setEndAt({ start: "2", end: "4" }, 8.06, limits)).toEqual({ start: "2", end: "8.1" });
    expect(setEndAt({ start: "30", end: "40" }, 20, limits)).toEqual({ start: "10", end: "20" });
    expect(setEndAt({ start: "30", end: "40" }, 4, limits)).toEqual({ start: "0", end: "4" });
    expect(setEndAt({ start: "0", end: "10" }, 70, limits)).toEqual({ start: "0", end: "65" });
  });

  it("starts with the first 10 s, or the whole of a shorter video", () => {
    expect(initialRange(65)).toEqual({ start: "0", end: "10" });
    expect(initialRange(4.27)).toEqual({ start: "0", end: "4.2" });
    expect(initialRange(null)).toEqual({ start: "0", end: "" });
  });

  it("I and O are shortcuts except in text fields or with a modifier", () => {
    expect(shortcutOf(key("i"))).toBe("start");
    expect(shortcutOf(key("O"))).toBe("end");
    expect(shortcutOf(key("p"))).toBeNull();
    expect(shortcutOf(key("i", document.body, { ctrlKey: true }))).toBeNull();
    expect(shortcutOf(key("i", document.body, { repeat: true }))).toBeNull();

    const text = document.createElement("input");
    const number = document.createElement("input");
    number.type = "number";
    const radio = document.createElement("input");
    radio.type = "radio";
    const area = document.createElement("textarea");
    const button = document.createElement("button");
    const video = document.createElement("video");
    expect(shortcutOf(key("i", text))).toBeNull();
    expect(shortcutOf(key("i", number))).toBeNull();
    expect(shortcutOf(key("o", area))).toBeNull();
    expect(shortcutOf(key("i", radio))).toBe("start");
    expect(shortcutOf(key("o", button))).toBe("end");
    expect(shortcutOf(key("i", video))).toBe("start");
    const dialog = document.createElement("dialog");
    const inDialog = document.createElement("button");
    dialog.append(inDialog);
    expect(shortcutOf(key("i", inDialog))).toBeNull();
  });
});
