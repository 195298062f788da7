import { Alert } from "@/components/ui/Alert";
import { describeError, type ApiError } from "@/lib/axios";

/**
 * The form-level message for a failed request. Validation problems are shown next to their fields,
 * so only the sentence without fields appears here. After a 429 the alert says when to retry, read
 * out once; its visible countdown is hidden from screen readers so it does not chatter every second.
 */
export function FormAlert({ error, secondsLeft = 0 }: { error: ApiError | null; secondsLeft?: number }) {
  if (!error) return null;
  if (error.code === "validation_failed" && Object.keys(error.fields).length > 0) return null;
  if (error.status === 429) {
    return (
      <Alert tone="warning" title="Too many attempts">
        {/* Read once, as it was when the alert appeared; the countdown is for the eyes only. */}
        <span className="sr-only">{describeError(error).replace(/^Too many attempts\. /, "")}</span>
        <span aria-hidden="true">
          {secondsLeft > 0 ? `Try again in ${secondsLeft} s.` : "You can try again now."}
        </span>
      </Alert>
    );
  }
  return <Alert tone="error">{describeError(error)}</Alert>;
}
