use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::args::StoreArgs;
use super::runtime;
use crate::manager::Manager;

pub(crate) fn run(store: &StoreArgs) -> ExitCode {
    runtime(async move {
        let manager = Manager::new(store.manager_config()?).await?;
        let tenants = manager.config().tenants().list().await?;
        println!("mode:    {}", manager.mode());
        if let Some(version) = manager.stats().await.control_plane_version {
            println!("control plane: global database, version {version}");
        }
        println!("tenants: {}", tenants.len());
        println!();
        println!("{:<24} {:<10} ping", "tenant", "database");
        let mut down = 0;
        for t in &tenants {
            let access = manager.for_tenant(&t.slug).await;
            let (backend, ping) = match access {
                Err(e) => {
                    down += 1;
                    ("?".to_string(), format!("down: {e}"))
                }
                Ok(a) if !a.has_db() => ("-".to_string(), "-".to_string()),
                Ok(a) => {
                    let started = Instant::now();
                    let result = tokio::time::timeout(Duration::from_secs(5), a.ping()).await;
                    let ping = match result {
                        Ok(Ok(())) => format!("ok {:.1?}", started.elapsed()),
                        Ok(Err(e)) => {
                            down += 1;
                            format!("down: {e}")
                        }
                        Err(_) => {
                            down += 1;
                            "down: no answer in 5s".to_string()
                        }
                    };
                    (a.backend().to_string(), ping)
                }
            };
            println!("{:<24} {:<10} {}", t.slug, backend, ping);
        }
        manager.close().await;
        Ok(if down == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    })
}
