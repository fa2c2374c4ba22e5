// Package archtest holds no code, only a test: the directions of
// ARCHITECTURE.md ("graph → internal services → store; only store imports
// Bun; services never import graph; migrations never import the models")
// checked against every Go file of the module, so a wrong import fails CI
// instead of waiting for a review.
package archtest
