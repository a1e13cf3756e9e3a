// Package scripts embeds the stock Starlark scripts. They are addressed as
// "@kamal//NAME" and resolve only here, so a user's files can wrap them but
// never shadow them.
package scripts

import "embed"

// FS holds the stock scripts.
//
//go:embed *.star
var FS embed.FS
