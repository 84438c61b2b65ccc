"""Where the in-process sandbox answers and the token it takes by default. Apart from the
sandbox package, so a command can tell a project kept on the sandbox (a demo's) from one
on Intercom without loading the sandbox."""

DEFAULT_TOKEN = "sandbox-token"
SANDBOX_URL = "http://intercom.sandbox"
