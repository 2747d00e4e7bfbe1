"""What a person or a job does with docgap, one function per action, each with its permission check.

The command line, the JSON API, the pages and the scheduled jobs all call these functions, so an action behaves
the same (and is allowed for the same people) whichever way it is asked for. They build on the stages and the
core and import no front end.
"""
