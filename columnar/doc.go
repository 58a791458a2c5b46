// Package columnar converts between Milvus column data and Apache Arrow
// records, and reads and writes those records as Parquet files in the layout
// that Milvus bulk import understands.
package columnar
