package cli

import "github.com/urfave/cli/v2"

// serviceCommand installs insights as a login item.
func serviceCommand() *cli.Command {
	return &cli.Command{Name: "service", Usage: "install or uninstall insights as a login item"}
}
