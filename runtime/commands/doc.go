// Package commands renders the command lines Kamal's build family runs, the
// Go twin of Ruby's Kamal::Commands::*. Every function here is pure: it
// turns a loaded configuration (and the facts the caller probed, such as the
// version or the local docker architecture) into *shell.Command values and
// never executes, stats remote hosts or reads secrets itself. The one
// exception is the Dockerfile existence check of Builder.Push, which Kamal
// performs while constructing the command.
//
// Two generations are rendered: config.Kamal2 follows Kamal 2.12.0 and
// config.Kamal1 follows the seed document, Kamal 1.5.2 (git archive builds,
// deploy lock around build subcommands). Differences between them are
// documented on each function.
package commands
