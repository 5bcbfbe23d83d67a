// Synchronous clean-ups to run when the process is interrupted (SIGINT or
// SIGTERM): a grading's folder, the embedded backend's folder. Each owner
// registers one and unregisters it when it cleaned up normally.
const cleanups = new Set<() => void>();

export function registerExitCleanup(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

export function runExitCleanups(): number {
  const count = cleanups.size;
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // best effort: the process is exiting
    }
  }
  cleanups.clear();
  return count;
}
