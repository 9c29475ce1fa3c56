use diesel::{Connection, PgConnection, RunQueryDsl};
use tenantry_kernel::{OsRandom, RandomSource};
use tenantry_store::{Store, StoreConfig};

/// A fresh database; dropped (PostgreSQL) or deleted (SQLite) with the value.
pub struct TestStore {
    pub store: Store,
    dir: Option<std::path::PathBuf>,
    pg: Option<(String, String)>,
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut conn) = PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

fn unique() -> String {
    let mut b = [0u8; 8];
    OsRandom.fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// SQLite always; PostgreSQL too when configured (required under `cargo xtask test`).
pub fn stores() -> Vec<TestStore> {
    let dir = std::env::temp_dir().join(format!("tenantry-store-{}", unique()));
    let sqlite = TestStore {
        store: Store::open(&StoreConfig::sqlite(dir.join("t.db"))).expect("sqlite"),
        dir: Some(dir),
        pg: None,
    };
    let mut out = vec![sqlite];
    match std::env::var("TENANTRY_TEST_PG") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("tenantry_s_{}", unique());
            let mut conn = PgConnection::establish(&admin).expect("connect");
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .expect("create db");
            let (base, _) = admin.rsplit_once('/').expect("database path");
            let url = format!("{base}/{name}");
            out.push(TestStore {
                store: Store::open(&StoreConfig::from_url(&url)).expect("pg"),
                dir: None,
                pg: Some((admin, name)),
            });
        }
        _ => assert!(
            std::env::var("TENANTRY_REQUIRE_PG").as_deref() != Ok("1"),
            "TENANTRY_TEST_PG is required"
        ),
    }
    out
}
