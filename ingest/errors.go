package ingest

import "fmt"

// LineError is a problem with one line of one input: the build stops and
// writes nothing, so the message names the file and line to fix.
type LineError struct {
	File string // input name as given; "stdin" for "-"
	Line int    // 1-based; 0 when the input is read as text, which has no line records
	Err  error  // what is wrong with the line
	// Detected is the format chosen by content detection, or Auto when the
	// caller chose the format; it is mentioned because a wrong guess is the
	// likeliest cause of a flood of errors.
	Detected Format
	row      bool // Line is a row of a Parquet file
}

// Error returns "file:line: problem", the form editors and compilers use.
func (e *LineError) Error() string {
	loc := e.File
	switch {
	case e.row:
		loc = fmt.Sprintf("%s: row %d", e.File, e.Line)
	case e.Line > 0:
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Detected != Auto {
		return fmt.Sprintf("%s: %v (read as %s, detected from the first lines; choose the format explicitly if that is wrong)", loc, e.Err, e.Detected)
	}
	return fmt.Sprintf("%s: %v", loc, e.Err)
}

// Unwrap returns the problem without its location.
func (e *LineError) Unwrap() error { return e.Err }
