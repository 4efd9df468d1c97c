// aiflow_lite web UI: live updates over Server-Sent Events, actions as POST with the CSRF token.
"use strict";
