import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Alert, Button, Dialog, ProgressBar, TextField } from "./index";

afterEach(cleanup);

describe("shared controls", () => {
  it("a field with a problem is marked invalid and reads the problem with its label", () => {
    render(<TextField label="Email" hint="We never share it." error="Enter your email address." />);

    const field = screen.getByRole("textbox", { name: "Email", description: "We never share it. Enter your email address." });
    expect(field.getAttribute("aria-invalid")).toBe("true");
  });

  it("a field without a problem is not marked invalid", () => {
    render(<TextField label="Name" />);

    expect(screen.getByRole("textbox", { name: "Name" }).hasAttribute("aria-invalid")).toBe(false);
  });

  it("a progress bar reports its value in numbers and words", () => {
    render(<ProgressBar label="Upload of clip.mp4" value={42} valueText="42 %, 4.2 MB of 10 MB" />);

    const bar = screen.getByRole("progressbar", { name: "Upload of clip.mp4" });
    expect(bar.getAttribute("aria-valuenow")).toBe("42");
    expect(bar.getAttribute("aria-valuemin")).toBe("0");
    expect(bar.getAttribute("aria-valuemax")).toBe("100");
    expect(bar.getAttribute("aria-valuetext")).toBe("42 %, 4.2 MB of 10 MB");
  });

  it("an indeterminate progress bar has no value", () => {
    render(<ProgressBar label="Import progress" value={null} />);

    expect(screen.getByRole("progressbar", { name: "Import progress" }).hasAttribute("aria-valuenow")).toBe(false);
  });

  it("a busy button cannot be pressed twice", () => {
    const onClick = vi.fn();
    render(
      <Button loading onClick={onClick}>
        Save name
      </Button>,
    );

    fireEvent.click(screen.getByRole("button", { name: "Save name" }));
    expect(onClick).not.toHaveBeenCalled();
  });

  it("errors interrupt, other messages wait their turn", () => {
    render(
      <>
        <Alert tone="error">It broke.</Alert>
        <Alert tone="success">Name saved</Alert>
      </>,
    );

    expect(screen.getByRole("alert").textContent).toContain("It broke.");
    expect(screen.getByRole("status").textContent).toContain("Name saved");
  });

  it("a dialog is named by its title and closes on Escape", () => {
    const onClose = vi.fn();
    render(
      <Dialog open onClose={onClose} title="Delete video?" description="This cannot be undone.">
        <Button onClick={onClose}>Cancel</Button>
      </Dialog>,
    );

    const dialog = screen.getByRole("dialog", { name: "Delete video?" });
    fireEvent(dialog, new Event("cancel", { cancelable: true }));
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});
