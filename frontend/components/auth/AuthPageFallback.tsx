import { Card } from "@/components/ui/Card";

/** Holds the card's place while the page reads its URL (static export), so nothing jumps. */
export function AuthPageFallback() {
  return (
    <Card className="w-full" aria-busy="true">
      <div className="mb-6 h-8 w-40 animate-[skeleton-pulse_1.6s_ease-in-out_infinite] rounded-md bg-raised" />
      <div className="space-y-5">
        {[0, 1].map((i) => (
          <div key={i} className="space-y-2">
            <div className="h-4 w-20 rounded bg-raised" />
            <div className="h-10 rounded-lg bg-raised" />
          </div>
        ))}
        <div className="h-10 rounded-lg bg-raised" />
      </div>
    </Card>
  );
}
