/** Where arrival notifications come from (the store, or a remote broker's engine). */
export interface ArrivalSource {
  /** Calls `listener` with the queue's new readable end whenever messages become readable in it; returns the unsubscribe function. */
  onArrival(topic: string, queueId: number, listener: (maxOffset: number) => void): () => void;
}
