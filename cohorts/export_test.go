package cohorts

// Narrowing exposes narrowing to the external property test, which checks
// that narrowed scans are among the cases it compares.
var Narrowing = narrowing
