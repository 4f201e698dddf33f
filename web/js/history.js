// Undo and redo for the designer: every edit is recorded as the document before and after it
// (snapshots of the world as JSON text: a case118 world is some 50 kB, so 200 steps stay small),
// with a label for the buttons' tooltips ("Undo: move bus3").

export class History {
  constructor(limit = 200) {
    this.limit = limit;
    this.past = []; // [{label, state}] states before each edit
    this.future = [];
    this.listeners = [];
  }
  onChange(fn) {
    this.listeners.push(fn);
  }
  emit() {
    for (const fn of this.listeners) fn(this);
  }
  // Records that `before` (a JSON string of the world before the edit) was left by edit `label`.
  push(label, before) {
    this.past.push({label, state: before});
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
    this.emit();
  }
  canUndo() {
    return this.past.length > 0;
  }
  canRedo() {
    return this.future.length > 0;
  }
  undoLabel() {
    return this.past.length ? this.past[this.past.length - 1].label : '';
  }
  redoLabel() {
    return this.future.length ? this.future[this.future.length - 1].label : '';
  }
  // Returns the state to go back to; current is the present state (kept for redo).
  undo(current) {
    const e = this.past.pop();
    if (!e) return null;
    this.future.push({label: e.label, state: current});
    this.emit();
    return e.state;
  }
  redo(current) {
    const e = this.future.pop();
    if (!e) return null;
    this.past.push({label: e.label, state: current});
    this.emit();
    return e.state;
  }
  clear() {
    this.past = [];
    this.future = [];
    this.emit();
  }
}
