//! HTTP: the axum router, webhook verification and intake.
