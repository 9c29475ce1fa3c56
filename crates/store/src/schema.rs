//! The schema of both backends (they are identical by construction: the migrations use only
//! TEXT, BIGINT, BOOLEAN and DOUBLE PRECISION). Kept in step with `migrations/*/` by the store tests, which run
//! every query against freshly migrated SQLite and PostgreSQL databases.

diesel::table! {
    accounts (id) {
        id -> Text,
        name -> Text,
        display_name -> Text,
        tier -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        display_name -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        created_at -> BigInt,
        password_changed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    memberships (account_id, user_id) {
        account_id -> Text,
        user_id -> Text,
        role -> Text,
        status -> Text,
        created_at -> BigInt,
        last_active_at -> Nullable<BigInt>,
        department -> Nullable<Text>,
        title -> Nullable<Text>,
        permissions -> Nullable<Text>,
        invited_by -> Nullable<Text>,
        removed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        account_id -> Text,
        user_id -> Text,
        name -> Text,
        display_prefix -> Text,
        secret_hash -> Text,
        scopes -> Text,
        created_at -> BigInt,
        expires_at -> Nullable<BigInt>,
        last_used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    settings_documents (account_id, section) {
        account_id -> Text,
        section -> Text,
        document -> Text,
        version -> BigInt,
        updated_at -> BigInt,
        updated_by -> Nullable<Text>,
    }
}

diesel::table! {
    settings_history (account_id, section, version) {
        account_id -> Text,
        section -> Text,
        version -> BigInt,
        document -> Text,
        updated_at -> BigInt,
        updated_by -> Nullable<Text>,
    }
}

diesel::table! {
    user_preferences (user_id, pref_key) {
        user_id -> Text,
        pref_key -> Text,
        value -> Text,
        version -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    ip_allowlist_entries (id) {
        id -> Text,
        account_id -> Text,
        cidr -> Text,
        label -> Text,
        created_at -> BigInt,
        created_by -> Nullable<Text>,
    }
}

diesel::table! {
    mfa_backup_codes (user_id, code_hash) {
        user_id -> Text,
        code_hash -> Text,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        account_id -> Text,
        user_id -> Text,
        secret_hash -> Text,
        created_at -> BigInt,
        last_seen_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        ip -> Nullable<Text>,
        restriction -> Nullable<Text>,
        cap_role -> Nullable<Text>,
        cap_scopes -> Nullable<Text>,
    }
}

diesel::table! {
    portal_links (id) {
        id -> Text,
        account_id -> Text,
        user_id -> Text,
        token_hash -> Text,
        intent -> Text,
        return_url -> Text,
        cap_role -> Text,
        cap_scopes -> Nullable<Text>,
        minted_by -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        session_id -> Nullable<Text>,
        minter_fingerprint -> Nullable<Text>,
    }
}

diesel::table! {
    operator_keys (id) {
        id -> Text,
        name -> Text,
        secret_hash -> Text,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        session_id -> Text,
        account_id -> Text,
        user_id -> Text,
        secret_hash -> Text,
        created_at -> BigInt,
        used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    user_mfa (user_id) {
        user_id -> Text,
        enrollment_id -> Text,
        secret_sealed -> Text,
        enabled -> Bool,
        last_used_step -> Nullable<BigInt>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        account_id -> Nullable<Text>,
        actor -> Text,
        action -> Text,
        target -> Nullable<Text>,
        diff -> Nullable<Text>,
        ip -> Nullable<Text>,
        request_id -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    instance_meta (meta_key) {
        meta_key -> Text,
        value -> Text,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        account_id -> Text,
        email -> Text,
        role -> Text,
        department -> Nullable<Text>,
        title -> Nullable<Text>,
        message -> Nullable<Text>,
        permissions -> Nullable<Text>,
        invited_by -> Text,
        status -> Text,
        token_hash -> Text,
        lifetime_days -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
        resent_at -> Nullable<BigInt>,
        closed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        account_id -> Nullable<Text>,
        kind -> Text,
        payload -> Text,
        created_at -> BigInt,
        next_attempt_at -> BigInt,
        attempts -> BigInt,
        claimed_until -> Nullable<BigInt>,
        delivered_at -> Nullable<BigInt>,
        abandoned_at -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        claimed_by -> Nullable<Text>,
    }
}

diesel::table! {
    team_activity_events (account_id, event_id) {
        account_id -> Text,
        event_id -> Text,
        user_id -> Text,
        kind -> Text,
        quantity -> BigInt,
        occurred_at -> BigInt,
        recorded_at -> BigInt,
    }
}

diesel::table! {
    notification_channels (id) {
        id -> Text,
        account_id -> Text,
        kind -> Text,
        name -> Text,
        enabled -> Bool,
        config -> Text,
        secret_sealed -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        previous_secret_sealed -> Nullable<Text>,
        previous_secret_until -> Nullable<BigInt>,
    }
}

diesel::table! {
    notification_rules (id) {
        id -> Text,
        account_id -> Text,
        name -> Text,
        event -> Text,
        channel_ids -> Text,
        filters -> Text,
        enabled -> Bool,
        created_at -> BigInt,
    }
}

diesel::table! {
    notification_deliveries (id) {
        id -> Text,
        account_id -> Text,
        event_id -> Text,
        event_type -> Text,
        channel_id -> Text,
        status -> Text,
        job -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        cancelled_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    notification_delivery_attempts (delivery_id, attempt) {
        delivery_id -> Text,
        attempt -> BigInt,
        attempted_at -> BigInt,
        response_code -> Nullable<BigInt>,
        latency_ms -> Nullable<BigInt>,
        error -> Nullable<Text>,
        state -> Text,
    }
}

diesel::table! {
    usage_records (account_id, record_id) {
        account_id -> Text,
        record_id -> Text,
        occurred_at -> BigInt,
        recorded_at -> BigInt,
        cost_micros -> BigInt,
        balance_micros -> Nullable<BigInt>,
    }
}

diesel::table! {
    cost_alert_firings (account_id, alert_key, period_start) {
        account_id -> Text,
        alert_key -> Text,
        period_start -> BigInt,
        fired_at -> BigInt,
        total_micros -> BigInt,
    }
}

diesel::table! {
    billing_balances (account_id) {
        account_id -> Text,
        occurred_at -> BigInt,
        balance_micros -> BigInt,
    }
}

diesel::table! {
    telemetry_webhook_tests (id) {
        id -> Text,
        account_id -> Text,
        url -> Text,
        response_code -> Nullable<BigInt>,
        error -> Nullable<Text>,
        tested_at -> BigInt,
    }
}

diesel::table! {
    notification_digest_items (id) {
        id -> Text,
        account_id -> Text,
        channel_id -> Text,
        event -> Text,
        period_end -> BigInt,
        created_at -> BigInt,
        flushed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    password_resets (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        purpose -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    email_changes (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        new_email -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    data_keys (id) {
        id -> Text,
        kek_id -> Text,
        wrapped -> Text,
        state -> Text,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// The change feed (decision 0047): what each write moved, for the other processes.
    cache_changes (seq) {
        seq -> BigInt,
        /// PostgreSQL: the writer's transaction id (set by the column default); SQLite: NULL.
        xid -> Nullable<BigInt>,
        scope -> Text,
        target -> Nullable<Text>,
        /// The writing store's random mark: its own follower skips the row.
        origin -> Nullable<BigInt>,
    }
}

diesel::joinable!(memberships -> accounts (account_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(api_keys -> accounts (account_id));
diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(sessions -> accounts (account_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    users,
    memberships,
    api_keys,
    settings_documents,
    settings_history,
    user_preferences,
    ip_allowlist_entries,
    mfa_backup_codes,
    user_mfa,
    sessions,
    portal_links,
    operator_keys,
    refresh_tokens,
    audit_log,
    instance_meta,
    invitations,
    outbox,
    team_activity_events,
    notification_channels,
    notification_rules,
    notification_deliveries,
    notification_delivery_attempts,
    usage_records,
    cost_alert_firings,
    billing_balances,
    telemetry_webhook_tests,
    notification_digest_items,
    password_resets,
    email_changes,
    data_keys,
    cache_changes,
);
