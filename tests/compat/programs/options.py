# Mirrors Twisted's docs/core/howto/options.rst: usage.Options with optFlags,
# optParameters (coerced), a sub-command, postOptions validation and the --help text.
import sys

from twisted.python import usage


class ImportOptions(usage.Options):
    optParameters = [["module", "m", None, "Name of the module to import."]]


class Options(usage.Options):
    synopsis = "Usage: example [options]"
    optFlags = [["fast", "f", "Act quickly"], ["safe", "s", "Act safely"]]
    optParameters = [["outfile", "O", "outfile.log", "Description of the output file"],
                     ["count", "c", 3, "How many", int]]
    subCommands = [["import", None, ImportOptions, "Do an Import"]]

    def __init__(self):
        usage.Options.__init__(self)
        self["verbosity"] = 0

    def opt_verbose(self):
        """Increase verbosity"""
        self["verbosity"] += 1

    opt_v = opt_verbose

    def postOptions(self):
        if self["fast"] and self["safe"]:
            raise usage.UsageError("can't be fast and safe")


for argv in (["-f", "-c", "7", "-vv", "--outfile=x.log"], ["import", "-m", "os"],
             ["-f", "-s"], ["--bogus"], ["-c", "many"]):
    config = Options()
    try:
        config.parseOptions(argv)
    except usage.UsageError as e:
        print(argv, "->", "UsageError:", e)
        continue
    print(argv, "->", sorted((k, v) for k, v in config.items()),
          config.subCommand, config.subCommand and dict(config.subOptions))
sys.stdout.write(str(Options()))
