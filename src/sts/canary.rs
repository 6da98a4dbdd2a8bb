//! The canary: a role in the broker's own AWS account with no rights but
//! `sts:AssumeRole`, which the broker assumes to make the one probe its
//! own principal cannot. A customer role that trusts deputy's exact
//! principal refuses the canary even with the right External ID; one that
//! trusts deputy's whole account (or any principal) lets it in, and so
//! would let in every other principal of that account holding an External
//! ID. The canary's credentials are used for those probes only, never for a
//! vend, and are never written anywhere.

use std::time::Duration;

use tokio::sync::Mutex;

use super::{AssumeRequest, Credentials, Sts, StsError, identity};
use crate::model::{PrincipalArn, RoleArn};

/// The canary's session: assumed on first need and again before it
/// expires.
pub struct Canary {
    role: RoleArn,
    region: String,
    session: Mutex<Option<Credentials>>,
}

/// How long a canary session is asked for, and how much of it must be left
/// to use it for one more verification.
const SESSION: Duration = Duration::from_secs(900);
const MARGIN: i64 = 120;

impl Canary {
    /// Assumes `role` as the broker and checks that it is what a canary
    /// must be: a different principal in the broker's own account. The
    /// error says what is wrong and how to fix it.
    pub async fn start(sts: &Sts, role: RoleArn, broker: &PrincipalArn) -> Result<Canary, String> {
        let canary = Canary {
            role,
            region: "us-east-1".into(),
            session: Mutex::new(None),
        };
        let creds = canary.session(sts).await.map_err(|e| {
            format!(
                "cannot assume the canary role {} ({e}): its trust policy must allow the broker's \
                 principal {broker} to call sts:AssumeRole (deploy/aws/ has templates that \
                 create both roles)",
                canary.role
            )
        })?;
        let caller = sts
            .caller_arn_as(&creds, &canary.region)
            .await
            .map_err(|e| {
                format!(
                    "the canary role {}'s session does not work for GetCallerIdentity ({e})",
                    canary.role
                )
            })?;
        let principal = identity::principal_from_caller(&caller);
        if principal == broker.as_str() {
            return Err(format!(
                "the canary role {} is the broker's own principal {broker}: the canary must be \
                 another principal, or it proves nothing",
                canary.role
            ));
        }
        let account_of = |arn: &str| arn.split(':').nth(4).unwrap_or_default().to_string();
        if account_of(&principal) != account_of(broker.as_str()) {
            return Err(format!(
                "the canary role {} is in account {}, the broker's principal {broker} in {}: the \
                 canary must be in the broker's own account, where the principals a role trusting \
                 that whole account lets in live",
                canary.role,
                account_of(&principal),
                account_of(broker.as_str())
            ));
        }
        Ok(canary)
    }

    pub fn role(&self) -> &RoleArn {
        &self.role
    }

    /// A canary session with enough time left.
    async fn session(&self, sts: &Sts) -> Result<Credentials, StsError> {
        let mut held = self.session.lock().await;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Some(creds) = held.as_ref().filter(|c| c.expiration - now > MARGIN) {
            return Ok(creds.clone());
        }
        let creds = sts
            .assume(&AssumeRequest {
                role: &self.role,
                external_id: None,
                session_name: "deputy-canary",
                duration: SESSION,
                tags: &[],
                source_identity: None,
                policy_arns: &[],
                region: &self.region,
            })
            .await?;
        *held = Some(creds.clone());
        Ok(creds)
    }

    /// `call` made as the canary.
    pub async fn assume(
        &self,
        sts: &Sts,
        call: &AssumeRequest<'_>,
    ) -> Result<Credentials, StsError> {
        let creds = self.session(sts).await?;
        sts.assume_as(&creds, call).await
    }
}
