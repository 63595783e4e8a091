// Package enforce holds the policy model, one file per control, the decision
// over an OCI document, and the hand-off to the real runtime.
package enforce
