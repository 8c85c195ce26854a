package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/zentra/zentra-import/importer"
)

func newValidateCmd(env *environment) *cobra.Command {
	var o importer.ValidateOptions
	cmd := &cobra.Command{
		Use:   "validate [flags] FILE.csv",
		Short: "Read, map and check every row; send nothing",
		Long: `Read the whole of FILE.csv with the same mapping and rules as run, write rejects.csv and
summary.json to the job directory, and print the counts and the first problems. Nothing is sent.
Exit 0 when every row would be sent, 1 when some would be rejected, 2 on a mapping or input error.`,
		Args: exactlyOneFile,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Show < 0 {
				env.finish(nil, &importer.Error{Kind: importer.KindInput, Err: fmt.Errorf("--show %d: want 0 (the counts only) or more", o.Show),
					Hint: "see `zentra-import validate -h`"})
				return nil
			}
			o.Input, o.Stderr = args[0], env.stderr
			sum, err := importer.Validate(cmd.Context(), o)
			env.finish(sum, err)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Mapping, "mapping", "", "mapping file (YAML); without it the mapping is inferred from the input")
	fl.StringVar(&o.Out, "out", "", "job directory (default: FILE with .csv replaced by .import, beside it)")
	fl.IntVar(&o.Show, "show", 10, "how many problem rows to print; 0 prints the counts only")
	return cmd
}
