// Package model holds the built-in lifecycle models, each a
// [lifecycle.Model]: [SterneCutler] (reach, acquisition, conversion,
// retention, loyalty).
package model
