// The surveys a channel service sent and the answer it took for each conversation, in its own
// collections (`<prefix>_surveys`, `<prefix>_survey_answers`), read by `_id` only. The answer's
// claim is a unique insert: the local store may lose concurrent updates of one document, but
// two replies racing to answer find one winner.
import { MongoServerError, type Collection, type Db } from 'mongodb';
import { keptOf } from '../store';
import type { SurveyAnswerClaim, SurveySent } from './answer';
import type { SurveyStore } from './take';

interface SurveyDoc extends Omit<SurveySent, 'conversationId'> {
  _id: string; // conversation id
}
interface AnswerDoc extends SurveyAnswerClaim {
  _id: string; // conversation id
  score: number;
  at: Date;
}

export class SurveyRecords implements SurveyStore {
  private readonly surveys: Collection<SurveyDoc>;
  private readonly answers: Collection<AnswerDoc>;

  constructor(db: Db, prefix: string) {
    this.surveys = db.collection(`${prefix}_surveys`);
    this.answers = db.collection(`${prefix}_survey_answers`);
  }

  /** The first sending counts: a redelivered survey does not move its window. */
  async sent(survey: SurveySent): Promise<void> {
    const { conversationId, ...fields } = survey;
    await this.surveys.updateOne({ _id: conversationId }, { $setOnInsert: fields }, { upsert: true });
  }

  async surveyOf(conversationId: string): Promise<SurveySent | undefined> {
    const found = await this.surveys.findOne({ _id: conversationId });
    if (!found) return undefined;
    const { _id, ...fields } = found;
    return { conversationId: _id, ...fields };
  }

  async answerOf(conversationId: string): Promise<SurveyAnswerClaim | undefined> {
    const found = await this.answers.findOne({ _id: conversationId });
    return found ? { by: found.by } : undefined;
  }

  /**
   * Deletes the survey sent and the answer taken of every conversation `erased` names (by the
   * time the survey went out or was answered). A pass over both collections: erasures are rare.
   */
  async erase(erased: (conversationId: string, at: Date) => boolean): Promise<{ surveys: number; surveyAnswers: number }> {
    const [surveys, answers] = await Promise.all([
      keptOf(this.surveys.find({}, { projection: { _id: 1, sentAt: 1 } }), (s) => erased(s._id, s.sentAt)),
      keptOf(this.answers.find({}, { projection: { _id: 1, at: 1 } }), (a) => erased(a._id, a.at)),
    ]);
    const surveyIds = surveys.map((s) => s._id);
    const answerIds = answers.map((a) => a._id);
    const [s, a] = await Promise.all([
      surveyIds.length ? this.surveys.deleteMany({ _id: { $in: surveyIds } }) : undefined,
      answerIds.length ? this.answers.deleteMany({ _id: { $in: answerIds } }) : undefined,
    ]);
    return { surveys: s?.deletedCount ?? 0, surveyAnswers: a?.deletedCount ?? 0 };
  }

  /** Claims the conversation's answer for `by`; the claim that was there first when another holds it. */
  async claimAnswer(conversationId: string, by: string, score: number, at: Date): Promise<SurveyAnswerClaim> {
    try {
      await this.answers.insertOne({ _id: conversationId, by, score, at });
      return { by };
    } catch (err) {
      if (!(err instanceof MongoServerError) || err.code !== 11000) throw err;
    }
    const existing = await this.answerOf(conversationId);
    if (!existing) throw new Error(`the survey answer of ${conversationId} was claimed but cannot be read`);
    return existing;
  }
}
