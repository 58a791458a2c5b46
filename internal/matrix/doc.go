// Package matrix holds the cross-version compatibility test: a collection
// built on each real server (scripts/milvus-env.sh targets in
// MILVAULT_MATRIX_TARGETS) is backed up and restored into every other one;
// each pair either passes a row-by-row comparison or is refused by
// restore.Check before anything is created. With MILVAULT_UPDATE_COMPAT_DOC=1
// (make test-matrix) the test writes the outcome to docs/compatibility.md.
package matrix
