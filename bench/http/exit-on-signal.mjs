// Preloaded (`--import`) into servers run with --cpu-prof: exit normally on SIGINT, so Node writes
// the profile (a process killed by a signal it does not handle writes nothing).
process.once('SIGINT', () => process.exit(0));
