//! Conversations: threads of direct statuses and each local participant's row for one
//! (its newest status, read or not, the other participants).

use super::{on_pool, Store, StoreError};

/// A direct status's place in its conversation, written with the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConversationEntry {
    pub conversation_id: i64,
    /// Everyone in it: the author and those it is addressed to, local or not.
    pub participants: Vec<i64>,
    /// The local participants, who each get a row.
    pub local: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConversationRow {
    pub account_id: i64,
    pub conversation_id: i64,
    pub last_status_id: i64,
    pub unread: bool,
    pub participant_ids: String,
}

impl ConversationRow {
    pub fn participants(&self) -> Vec<i64> {
        self.participant_ids
            .split(',')
            .filter_map(|p| p.parse().ok())
            .collect()
    }
}

pub(crate) const COLUMNS: &str =
    "account_id, conversation_id, last_status_id, unread, participant_ids";

/// Writes a direct status's conversation entry inside the transaction `$tx` that writes the
/// status (`$author` wrote it, `$status` is its id).
macro_rules! insert_conversation {
    ($tx:ident, $entry:expr, $status:expr, $author:expr) => {{
        let e: &$crate::store::conversations::NewConversationEntry = $entry;
        let mut result = sqlx::query(
            "INSERT INTO direct_threads (status_id, conversation_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind($status)
        .bind(e.conversation_id)
        .execute(&mut *$tx)
        .await
        .map(|_| ());
        for account in &e.local {
            if result.is_err() {
                break;
            }
            let others: Vec<String> = e
                .participants
                .iter()
                .filter(|p| *p != account)
                .map(|p| p.to_string())
                .collect();
            result = sqlx::query(
                "INSERT INTO conversations (account_id, conversation_id, last_status_id, unread, participant_ids) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, conversation_id) DO UPDATE SET \
                 last_status_id = $3, unread = $4, participant_ids = $5",
            )
            .bind(account)
            .bind(e.conversation_id)
            .bind($status)
            .bind(*account != $author)
            .bind(others.join(","))
            .execute(&mut *$tx)
            .await
            .map(|_| ());
        }
        result
    }};
}
pub(crate) use insert_conversation;

impl Store {
    /// The conversation a direct status belongs to, if it is in one.
    pub async fn conversation_of(&self, status: i64) -> Result<Option<i64>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT conversation_id FROM direct_threads WHERE status_id = $1")
                .bind(status)
                .fetch_optional(pool)
                .await
        })?)
    }

    pub async fn conversation(
        &self,
        account: i64,
        conversation: i64,
    ) -> Result<Option<ConversationRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM conversations WHERE account_id = $1 AND conversation_id = $2"
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, ConversationRow>(&sql)
                .bind(account)
                .bind(conversation)
                .fetch_optional(pool)
                .await
        })?)
    }

    pub async fn mark_conversation_read(
        &self,
        account: i64,
        conversation: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE conversations SET unread = FALSE WHERE account_id = $1 AND conversation_id = $2",
            )
            .bind(account)
            .bind(conversation)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Removes a conversation from `account`'s list (a new status in it brings it back).
    pub async fn delete_conversation(
        &self,
        account: i64,
        conversation: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM conversations WHERE account_id = $1 AND conversation_id = $2")
                .bind(account)
                .bind(conversation)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }
}
