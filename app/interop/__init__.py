"""Meet users where they are: Sloth and OpenSLO documents in, OpenSLO documents out.

Conversions are pure: parsed YAML documents in, Faultline YAML data plus warnings out. Reading
and writing files is left to the command (`app.commands.interop`). Whatever an input says that
Faultline cannot carry over becomes a warning naming the document, the field and the reason.
"""
