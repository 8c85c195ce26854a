package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/zentra/zentra-import/importer"
	"github.com/zentra/zentra-import/zentra"
)

// A secret key comes from ZENTRA_SECRET_KEY or from a key file, never from the command line (which shows
// in ps and in shell history) nor from another variable. A value that holds a key where a path, a URL or
// any other value belongs is a mistake (the key pasted instead of its file's path, the key put in the
// URL as a user name): it is refused before anything reads it, with a message that names the place and
// never the value. "Holds a key" is zentra.HoldsKey: anything shaped like a Zentra key (sk_live_… or
// sk_sandbox_…, in any case), or the key the process was given, of whatever shape, found by value.
//
// Three checks, each before anything could echo the value: the command line before cobra parses it
// (its errors quote arguments), each variable before it sets its flag (applyEnv), and, once run has read
// the key from its file, every flag and argument again against that key.

// envKeys are the keys the environment gives: ZENTRA_SECRET_KEY's value.
func envKeys(getenv func(string) string) []zentra.Secret {
	if k := strings.TrimSpace(getenv("ZENTRA_SECRET_KEY")); k != "" {
		return []zentra.Secret{zentra.Secret(k)}
	}
	return nil
}

// keyInArgs refuses a command line that holds a key in any argument, naming where: the flag whose value
// it is, the input file, or an argument. The sandbox's --key, the key it accepts, is its own business.
func keyInArgs(root *cobra.Command, args []string, keys []zentra.Secret) error {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		cmd = root
	}
	valueOf := "" // the flag whose value the next argument is
	flags := true // before "--"
	for _, a := range args {
		flag, name := "", "an argument"
		switch {
		case valueOf != "":
			flag, name, valueOf = valueOf, "--"+valueOf, ""
		case flags && a == "--":
			flags = false
			continue
		case flags && strings.HasPrefix(a, "--"):
			n, _, hasValue := strings.Cut(a[2:], "=")
			if fl := cmd.Flags().Lookup(n); fl != nil {
				if hasValue {
					flag, name = n, "--"+n
				} else if fl.NoOptDefVal == "" {
					valueOf = n
				}
			}
		case !strings.HasPrefix(a, "-") && a != cmd.Name() && takesFile(cmd):
			name = "the input file argument"
		}
		if flag == "key" && cmd.Name() == "sandbox" {
			continue
		}
		if zentra.HoldsKey(a, keys...) {
			return keyPlaceError(flag, name, true)
		}
	}
	return nil
}

// takesFile says whether the command's argument is an input file.
func takesFile(cmd *cobra.Command) bool { return strings.Contains(cmd.Use, "FILE") }

// keyInFlags refuses a flag (set on the command line or by its variable) or an argument that holds one
// of keys: run calls it once the key is read from its file. source names where a flag's value came from.
func keyInFlags(fl *pflag.FlagSet, args []string, source func(string) string, keys ...zentra.Secret) error {
	var err error
	fl.VisitAll(func(f *pflag.Flag) {
		if err == nil && f.Changed && zentra.HoldsKey(f.Value.String(), keys...) {
			src := source(f.Name)
			err = keyPlaceError(f.Name, src, !strings.HasPrefix(src, "ZENTRA_"))
		}
	})
	for _, a := range args {
		if err == nil && zentra.HoldsKey(a, keys...) {
			err = keyPlaceError("", "the input file argument", true)
		}
	}
	return err
}

// keyPlaceError says that name (a flag, a variable, an argument) holds a secret key, never quoting it.
// flag is the flag's name when name is a flag or its variable. onCommandLine adds that the key is now in
// the shell's history.
func keyPlaceError(flag, name string, onCommandLine bool) error {
	var msg, hint string
	pathHint := "; a file or directory named sk_live_… or sk_sandbox_… is taken for a key: rename it"
	switch flag {
	case "secret-key-file":
		msg = name + " is given a secret key, not the path of a file holding one"
		hint = "put the key in a file (chmod 600) and give its path, or export ZENTRA_SECRET_KEY"
	case "key-file-name": // the path of a key file that holds the key in its own name
		msg = "the path given to " + name + " holds the key itself"
		hint = "rename the key file: a path shows in messages (and on a command line in ps and shell history)"
	case "api-url":
		msg = name + " holds a secret key: the key never goes in the URL, neither as a user name nor anywhere else"
		hint = "give scheme and host only, like https://api.usezentra.com; the key goes in ZENTRA_SECRET_KEY or a key file (--secret-key-file)"
	case "mapping":
		msg, hint = name+" is given a secret key, not the path of a mapping file", "give the mapping file's path"+pathHint
	case "out":
		msg, hint = name+" is given a secret key, not the path of a job directory", "give the job directory's path"+pathHint
	case "addr":
		msg, hint = name+" is given a secret key, not an address to listen on", "give a loopback address such as 127.0.0.1:8080"
	case "":
		if name == "the input file argument" {
			msg, hint = name+" is given a secret key, not the path of a CSV file", "give the CSV file's path"+pathHint
			break
		}
		fallthrough
	default:
		msg = name + " is given a secret key: a key is never a flag's value or an argument"
		hint = "export ZENTRA_SECRET_KEY, or put the key in a file (chmod 600) and pass --secret-key-file PATH"
	}
	if onCommandLine {
		hint += " (a command line shows in ps and in shell history: if others can read those, rotate the key)"
	}
	return &importer.Error{Kind: importer.KindInput, Err: fmt.Errorf("%s", msg), Hint: hint}
}
