/**
 * @module topics/topic-store
 * The topics and subscriptions of a data directory, in `topics.db` (SQLite, WAL + synchronous
 * FULL, as the other stores): each change is on disk before it is answered.
 */
import { openPrivateDatabase } from '../deploy/private-database.js';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';

/** A topic as stored. */
export interface TopicRecord {
  readonly name: string;
  readonly attributes: Record<string, string>;
  readonly tags: Record<string, string>;
}

/** A subscription as stored. */
export interface SubscriptionRecord {
  readonly arn: string;
  readonly topicName: string;
  /** Always `lambda`: the only protocol served. */
  readonly protocol: string;
  /** The function ARN. */
  readonly endpoint: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, attributes TEXT NOT NULL, tags TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (arn TEXT PRIMARY KEY, topic_name TEXT NOT NULL, protocol TEXT NOT NULL, endpoint TEXT NOT NULL);`;

/** The topics database of one data directory. */
export class TopicStore {
  private readonly db: DatabaseSync;

  constructor(dataDir: string) {
    const file = join(dataDir, 'topics.db');
    const db = openPrivateDatabase(file, { schema: SCHEMA, synchronous: 'FULL', what: 'topics database' });
    this.db = db;
  }

  /** Every topic and subscription; called once at start. */
  load(): { topics: TopicRecord[]; subscriptions: SubscriptionRecord[] } {
    const topics = (this.db.prepare('SELECT * FROM topics ORDER BY name').all() as unknown as { name: string; attributes: string; tags: string }[])
      .map((row) => ({ name: row.name, attributes: JSON.parse(row.attributes) as Record<string, string>, tags: JSON.parse(row.tags) as Record<string, string> }));
    const subscriptions = (this.db.prepare('SELECT * FROM subscriptions ORDER BY rowid').all() as unknown as { arn: string; topic_name: string; protocol: string; endpoint: string }[])
      .map((row) => ({ arn: row.arn, topicName: row.topic_name, protocol: row.protocol, endpoint: row.endpoint }));
    return { topics, subscriptions };
  }

  putTopic(topic: TopicRecord): void {
    this.db.prepare('INSERT OR REPLACE INTO topics (name, attributes, tags) VALUES (?, ?, ?)').run(topic.name, JSON.stringify(topic.attributes), JSON.stringify(topic.tags));
  }

  /** Removes a topic and its subscriptions, in one transaction. */
  deleteTopic(name: string): void {
    this.db.exec('BEGIN');
    try {
      this.db.prepare('DELETE FROM subscriptions WHERE topic_name = ?').run(name);
      this.db.prepare('DELETE FROM topics WHERE name = ?').run(name);
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  putSubscription(subscription: SubscriptionRecord): void {
    this.db.prepare('INSERT OR REPLACE INTO subscriptions (arn, topic_name, protocol, endpoint) VALUES (?, ?, ?, ?)')
      .run(subscription.arn, subscription.topicName, subscription.protocol, subscription.endpoint);
  }

  deleteSubscription(arn: string): void {
    this.db.prepare('DELETE FROM subscriptions WHERE arn = ?').run(arn);
  }

  close(): void {
    this.db.close();
  }
}
