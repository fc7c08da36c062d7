//! GitHub access: app auth, installation tokens, retries, the calls we make.
