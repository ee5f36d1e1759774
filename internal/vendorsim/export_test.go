package vendorsim

// MaxBodyBytes is the body bound, for the external tests.
const MaxBodyBytes = maxBodyBytes
