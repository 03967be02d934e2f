#pragma once
// View ▸ Navigate / Lasso / Box selection modes, Reset View and Clear Selection, wired to the
// embedding view.
#include <QAction>
#include <QActionGroup>
#include <QObject>

namespace transcura::widgets {
class EmbeddingView;
}

namespace transcura::shell {

class ViewActions : public QObject {
    Q_OBJECT
public:
    ViewActions(widgets::EmbeddingView* view, QObject* parent = nullptr);

    QAction* navigate() const { return navigate_; }
    QAction* lasso() const { return lasso_; }
    QAction* box() const { return box_; }
    QAction* resetView() const { return reset_; }
    QAction* clearSelection() const { return clear_; }
    QList<QAction*> modeActions() const { return {navigate_, lasso_, box_}; }

private:
    widgets::EmbeddingView* view_;
    QActionGroup* modes_;
    QAction* navigate_;
    QAction* lasso_;
    QAction* box_;
    QAction* reset_;
    QAction* clear_;
};

}  // namespace transcura::shell
