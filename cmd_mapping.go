package main

import (
	"github.com/spf13/cobra"

	"github.com/zentra/zentra-import/importer"
)

func newMappingCmd(env *environment) *cobra.Command {
	return &cobra.Command{
		Use:   "mapping FILE.csv",
		Short: "Print a starter mapping inferred from the header and sample values",
		Long: `Print a mapping file for FILE.csv, inferred from its header names and from sample values, with
comments saying what was guessed and which columns are left unmapped. Save it, edit it, and pass it to
run and validate with --mapping.`,
		Args: exactlyOneFile,
		RunE: func(cmd *cobra.Command, args []string) error {
			env.finish(nil, importer.Infer(env.stdout, args[0]))
			return nil
		},
	}
}
