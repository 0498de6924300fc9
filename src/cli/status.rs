use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::args::StoreArgs;
use super::runtime;
use super::tenants::provisioning_label;
use crate::manager::Manager;
use crate::model::ProvisioningState;

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
        println!("{:<24} {:<10} {:<13} ping", "tenant", "database", "provisioning");
        let mut down = 0;
        for t in &tenants {
            let access = manager.for_tenant(&t.slug).await;
            let (backend, has_db, ping) = match access {
                Err(e) => {
                    down += 1;
                    ("?".to_string(), true, format!("down: {e}"))
                }
                Ok(a) if !a.has_db() => ("-".to_string(), false, "-".to_string()),
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
                    (a.backend().to_string(), true, ping)
                }
            };
            println!("{:<24} {:<10} {:<13} {}", t.slug, backend, provisioning_label(t, has_db), ping);
            if let Some(p) =
                t.provisioning.as_ref().filter(|p| has_db && p.state == ProvisioningState::Failed)
            {
                let error = p.error.as_deref().unwrap_or("unknown error");
                println!("{:<24} provisioning failed at {}: {error}", "", p.at.to_rfc3339());
            }
        }

        // The pools the pings opened (or that were open already): one per database server.
        let pool = manager.stats().await.pool;
        println!();
        println!(
            "server pools: {} open ({} opened, {} closed since start)",
            pool.open, pool.connects, pool.closed
        );
        if !pool.servers.is_empty() {
            println!(
                "{:<8} {:>9} {:>7} {:>5} {:>8} {:>8}  server",
                "driver", "size/max", "in use", "idle", "waiting", "tenants"
            );
        }
        for s in &pool.servers {
            let f = &s.figures;
            println!(
                "{:<8} {:>9} {:>7} {:>5} {:>8} {:>8}  {}",
                s.driver,
                format!("{}/{}", f.size, f.max_size),
                f.in_use,
                f.idle,
                f.waiting,
                s.tenants,
                s.server
            );
        }
        manager.close().await;
        Ok(if down == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    })
}
