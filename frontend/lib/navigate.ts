// Leaving the app for another site (an OAuth consent page). One seam, so tests can see where the
// page would have gone: jsdom cannot navigate, and window.location cannot be spied on.

export function leaveTo(url: string): void {
  window.location.assign(url);
}
