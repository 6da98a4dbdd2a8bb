//! CallFunction. Functions answer with a `FunctionError` instead of
//! diagnostics, since Terraform points it at the argument in the user's
//! expression; they need no configured provider.

use super::{ProviderService, lookup};
use crate::tfplugin::function::FunctionError;
use crate::tfplugin::proto::tfplugin6 as pb;
use crate::tfplugin::provider::Provider;
use crate::tfplugin::value::wire;

impl<P: Provider> ProviderService<P> {
    pub(crate) fn call_function(
        &self,
        req: pb::call_function::Request,
    ) -> pb::call_function::Response {
        let result = (|| {
            let f = lookup(&self.registry.functions, "function", &req.name).map_err(|_| {
                FunctionError {
                    text: format!("this provider has no function {:?}", req.name),
                    argument: None,
                }
            })?;
            let sig = f.signature();
            if req.arguments.len() != sig.parameters.len() {
                return Err(FunctionError {
                    text: format!(
                        "{} takes {} arguments, got {}",
                        req.name,
                        sig.parameters.len(),
                        req.arguments.len()
                    ),
                    argument: None,
                });
            }
            let args = req
                .arguments
                .iter()
                .zip(&sig.parameters)
                .enumerate()
                .map(|(i, (dv, p))| {
                    wire::decode_dynamic(&p.ty, Some(dv))
                        .map_err(|e| FunctionError::argument(i, format!("{}: {e}", p.name)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = f.call(&args)?;
            wire::encode_dynamic(&sig.returns, &out).map_err(|e| FunctionError {
                text: format!("could not encode the result: {e}"),
                argument: None,
            })
        })();
        match result {
            Ok(v) => pb::call_function::Response {
                result: Some(v),
                error: None,
            },
            Err(e) => pb::call_function::Response {
                result: None,
                error: Some(e.to_proto()),
            },
        }
    }
}
