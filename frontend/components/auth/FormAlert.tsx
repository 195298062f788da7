import { Alert } from "@/components/ui/Alert";
import { describeError, type ApiError } from "@/lib/axios";

/**
 * The form-level message for a failed request. Validation problems are shown next to their fields,
 * so only the sentence without fields appears here. After a 429 the alert says once when to retry
 * (read out once); the countdown under it is for the eyes only, so it does not chatter every second.
 */
export function FormAlert({ error, secondsLeft = 0 }: { error: ApiError | null; secondsLeft?: number }) {
  if (!error) return null;
  if (error.code === "validation_failed" && Object.keys(error.fields).length > 0) return null;
  if (error.status === 429) {
    return (
      <div className="space-y-1.5">
        <Alert tone="warning" title="Too many attempts">
          {describeError(error).replace(/^Too many attempts\. /, "")}
        </Alert>
        <p aria-hidden="true" className="h-4 text-xs text-muted">
          {secondsLeft > 0 ? `You can try again in ${secondsLeft} s.` : "You can try again now."}
        </p>
      </div>
    );
  }
  return <Alert tone="error">{describeError(error)}</Alert>;
}
