//! `umapi sandbox`: serve the UMAPI sandbox until Ctrl-C.

use anyhow::Context;
use umapi_sandbox::{OrgSpec, RateLimitConfig, Sandbox, SandboxConfig};

use crate::cli::{SandboxArgs, SandboxLimits};
use crate::outcome::Outcome;
use crate::printer::Printer;
use umapi_sync::connect::initial_org;

/// Runs `sandbox`.
pub async fn run(args: SandboxArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let generated = args.users.map(|users| OrgSpec {
        users,
        user_groups: args.groups.unwrap_or(10),
        profiles: args.profiles.unwrap_or(5),
        seed: 1,
    });
    let initial = initial_org(args.state.as_deref(), args.seed.as_deref(), generated)?;
    let time_scale = args.time_scale.unwrap_or(1.0);
    let limited = args.rate_limits == SandboxLimits::Adobe;
    let config = SandboxConfig {
        port: args.port,
        tls: args.tls,
        rate_limits: limited.then(RateLimitConfig::default),
        time_scale,
        max_names_per_entry: args.memberships_per_entry.map(usize::from),
        ..SandboxConfig::default()
    };
    let handle = Sandbox::start(config, initial)
        .await
        .context("could not start the sandbox")?;
    if let Some(state) = &args.state {
        handle.persist_to(state).with_context(|| {
            format!("could not write the sandbox state to `{}`", state.display())
        })?;
    }
    let mut text = format!(
        "UMAPI sandbox listening on {base}\n\
         \n\
         umapi_endpoint: {umapi}\n\
         ims_host: {ims}\n\
         org_id: {org}\n\
         client_id: {client}\n\
         client secret: the sandbox's fixed test secret `{secret}` (set UMAPI_CLIENT_SECRET to it)\n",
        base = handle.base_url(),
        umapi = handle.umapi_endpoint(),
        ims = handle.ims_host(),
        org = handle.org_id(),
        client = handle.client_id(),
        secret = handle.client_secret().expose(),
    );
    if let Some(ca) = handle.ca_cert_path() {
        text.push_str(&format!("ca_bundle: {}\n", ca.display()));
    }
    if limited {
        let minute = umapi_core::rate::ADOBE_WINDOW.div_f64(time_scale);
        text.push_str(&format!(
            "rate_limits: {{time_scale: {time_scale}}}\n  \
             (the sandbox answers 429 beyond Adobe's 25 user, 5 group and 10 action requests \
             per minute, and its minute lasts {minute:?}; write this line under `connection:` in \
             umapi.yaml so that umapi paces in the sandbox's time)\n"
        ));
    }
    // The last line: scripts read the output up to it.
    text.push_str(&format!(
        "admin API: {}/_sandbox/ (counters, requests, state, reset, faults)\n",
        handle.base_url()
    ));
    printer.result(&text);
    printer.info("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c()
        .await
        .context("could not wait for Ctrl-C")?;
    handle.shutdown().await;
    printer.info("Sandbox stopped.");
    Ok(Outcome::Success)
}
