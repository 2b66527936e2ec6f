//go:build !race

package classic_test

// raceBuild is false: see race_test.go.
const raceBuild = false
